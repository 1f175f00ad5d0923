-- demo-web: a web server supervised inside a cell, serving the demo-data volume.
-- On NetBSD the seed runs the base system's httpd:
--   /usr/libexec/httpd -I 8080 -X -f -s /var/www/demo-web
-- On Linux the demo uses busybox httpd (the demo installs busybox when missing).
cell("demo-web", {
  autostart = true,
  create = { profile = "medium", reserved_ports = "8080" },
  supervise = { cmd = "exec busybox httpd -f -p 127.0.0.1:8080 -h /var/www/demo-web" },
  mounts = { volume("demo-data", { target = "/var/www/demo-web", mode = "rw" }) },
  healthcheck = "test -f /var/www/demo-web/index.html",
})
