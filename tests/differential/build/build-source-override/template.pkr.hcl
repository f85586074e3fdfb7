source "file" "base" {
  content = "base content\n"
}
build {
  source "source.file.base" {
    name   = "one"
    target = "one.txt"
  }
  source "source.file.base" {
    name   = "two"
    target = "two.txt"
  }
  provisioner "shell-local" {
    inline = ["echo ${source.name} ${source.type} > prov-${source.name}.txt"]
  }
}
