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
}
build {
  name    = "main"
  sources = ["source.file.app-web", "source.file.app-db"]
  source "source.file.tool" {
    target = "tool-main.txt"
  }
}
build {
  source "source.file.tool" {
    target = "tool-unnamed.txt"
  }
  provisioner "shell-local" {
    inline = ["echo unnamed > unnamed-build.txt"]
  }
}
