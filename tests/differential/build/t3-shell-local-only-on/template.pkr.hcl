source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  provisioner "shell-local" {
    only_on = ["windows", "darwin"]
    inline  = ["echo skipped > skipped.txt"]
  }
  provisioner "shell-local" {
    only_on = ["linux"]
    inline  = ["echo ran > ran.txt"]
  }
}
