source "file" "base" {
  content = "base content\n"
}
build {
  source "source.file.base" {
    target = "only.txt"
  }
  provisioner "shell-local" {
    inline = ["echo ${source.name} > name.txt"]
  }
}
