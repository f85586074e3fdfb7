source "null" "n" {
}
build {
  sources = ["source.null.n"]
  provisioner "shell-local" {
    inline = ["echo ran > out.txt"]
  }
}
