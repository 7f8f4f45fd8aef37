-- What the server answered each op it took, so an op sent again after its reply was lost gets
-- the same answer: the clamp its record got (without it the device would keep stamps the server
-- lowered, and the two would never converge) and, for a rejected op, its reject code.
ALTER TABLE op ADD COLUMN clamped_to INTEGER;
ALTER TABLE op ADD COLUMN reject_code TEXT;
