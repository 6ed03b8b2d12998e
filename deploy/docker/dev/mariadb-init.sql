-- The development stack's Open Dental database and the read-only user tc-sync reads it with.
CREATE DATABASE IF NOT EXISTS opendental CHARACTER SET utf8;
CREATE USER IF NOT EXISTS 'tc_sync_ro'@'%' IDENTIFIED BY 'dev-readonly';
GRANT SELECT, SHOW VIEW ON opendental.* TO 'tc_sync_ro'@'%';
