DROP TABLE google_pending_users;
DROP TABLE google_directories;
