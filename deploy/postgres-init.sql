-- Runs once, when the compose postgres volume is first created: OpenFGA keeps its store
-- in a database of its own beside Switchboard's.
CREATE DATABASE openfga OWNER switchboard;
