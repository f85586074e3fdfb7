source "file" "alpha" {
  content = "alpha\n"
  target  = "alpha.txt"
}
build {
  sources = ["source.file.alpha"]
  provisioner "shell-local" {
    inline = ["echo 'source=${source.name} type=${source.type}' > names.txt"]
  }
}
