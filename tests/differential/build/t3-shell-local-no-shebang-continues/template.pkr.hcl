source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  provisioner "shell-local" {
    inline_shebang = "/bin/sh"
    inline = [
      "echo one > out.txt",
      "false",
      "echo two >> out.txt",
    ]
  }
}
