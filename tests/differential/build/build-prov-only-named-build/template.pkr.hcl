source "file" "a" {
  content = "a\n"
  target  = "a-${"x"}.txt"
}
build {
  name    = "nb"
  sources = ["source.file.a"]
  provisioner "shell-local" {
    only   = ["nb.file.a"]
    inline = ["echo matched-full > full.txt"]
  }
  provisioner "shell-local" {
    only   = ["file.a"]
    inline = ["echo matched-short > short.txt"]
  }
}
