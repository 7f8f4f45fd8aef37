// Apps import only `Satchel`: the generated bindings (records, enums, the `Satchel` object) come
// with it, as they come with `org.satchel` on Android. The XCFramework's C module stays an
// implementation detail.
@_exported import SatchelFFI
