source "file" "base" {
  content = "base content\n"
  target  = "base.txt"
}
build {
  source "source.file.base" {
    name   = "one"
    target = "one.txt"
  }
  source "source.file.base" {
    name    = "two"
    content = "two content\n"
    target  = "two.txt"
  }
  sources = ["source.file.base"]
  provisioner "shell-local" {
    inline = ["echo ${source.name} >> order-${source.name}.txt"]
  }
}
