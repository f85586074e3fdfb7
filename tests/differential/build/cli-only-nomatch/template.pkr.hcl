source "file" "app-web" {
  content = "web\n"
  target  = "app-web.txt"
}
source "file" "app-db" {
  content = "db\n"
  target  = "app-db.txt"
}
source "file" "tool" {
  content = "tool\n"
  target  = "tool.txt"
}
build {
  name    = "main"
  sources = ["source.file.app-web", "source.file.app-db", "source.file.tool"]
}
build {
  sources = ["source.file.tool"]
  provisioner "shell-local" {
    inline = ["echo unnamed > unnamed-build.txt"]
  }
}
