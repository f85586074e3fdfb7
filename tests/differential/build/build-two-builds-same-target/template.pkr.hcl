source "file" "shared" {
  content = "shared content\n"
  target  = "shared.txt"
}
build {
  name    = "first"
  sources = ["source.file.shared"]
  provisioner "shell-local" {
    inline = ["echo first ${build.name} > first.txt"]
  }
}
build {
  name    = "second"
  sources = ["source.file.shared"]
  provisioner "shell-local" {
    inline = ["echo second ${build.name} > second.txt"]
  }
}
