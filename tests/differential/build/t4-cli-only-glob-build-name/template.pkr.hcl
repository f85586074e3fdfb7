source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
source "file" "b" {
  content = "b\n"
  target  = "b.txt"
}
build {
  name    = "web"
  sources = ["source.file.a", "source.file.b"]
}
build {
  name    = "db"
  sources = ["source.file.a"]
  provisioner "shell-local" {
    inline = ["echo db > db.txt"]
  }
}
