//! nginx on a loopback port serving a directory unchanged, as an operator would host content.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    tls: bool,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx serving `root` on a free loopback port. Fails loudly if nginx is missing.
    pub fn serve(root: &Path) -> Result<Nginx> {
        Nginx::start(root, None)
    }

    /// The same over HTTPS with the PEM certificate chain and key given.
    pub fn serve_tls(root: &Path, certificate: &Path, key: &Path) -> Result<Nginx> {
        Nginx::start(root, Some((certificate, key)))
    }

    fn start(root: &Path, tls: Option<(&Path, &Path)>) -> Result<Nginx> {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .context("nginx is not installed (cargo xtask test installs it)")?;
        let dir = tempfile::tempdir()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let d = dir.path().display();
        let config = format!(
            "worker_processes 1;\n{user}daemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
               types {{ application/json json; }}\n  default_type application/octet-stream;\n\
               server {{ listen {addr}{ssl}; {certificates}root {root}; location / {{ }} }}\n}}\n",
            user = if is_root() { "user root;\n" } else { "" },
            root = root.display(),
            ssl = if tls.is_some() { " ssl" } else { "" },
            certificates = tls.map_or(String::new(), |(cert, key)| format!(
                "ssl_certificate {}; ssl_certificate_key {}; ",
                cert.display(),
                key.display()
            )),
        );
        let config_path = dir.path().join("nginx.conf");
        std::fs::write(&config_path, config)?;
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config_path)
            .arg("-p")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start nginx")?;
        let mut nginx = Nginx { child, addr, tls: tls.is_some(), _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                bail!("nginx exited at start ({status})");
            }
            if Instant::now() > deadline {
                bail!("nginx did not start listening on {addr}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(nginx)
    }

    pub fn base_url(&self) -> String {
        format!("{}://{}/", if self.tls { "https" } else { "http" }, self.addr)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
