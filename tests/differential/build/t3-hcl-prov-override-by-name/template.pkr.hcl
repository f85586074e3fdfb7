source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  provisioner "shell-local" {
    inline = ["echo default > out.txt"]
    override = {
      a = {
        inline = ["echo by-short-name > out.txt"]
      }
    }
  }
}
