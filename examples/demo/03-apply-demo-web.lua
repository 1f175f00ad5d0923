-- What demo-web needs inside: the document root and its page.
apply("demo-web", {
  dir("/var/www/demo-web", { mode = "0755" }),
  file("/var/www/demo-web/index.html", "<html><body>Hello from Cells</body></html>\n", { mode = "0644" }),
})
