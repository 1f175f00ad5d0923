-- The demo volume: the web root of demo-web, kept outside the cell.
volume("demo-data", { mode = "0755" })
