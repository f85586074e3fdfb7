source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  provisioner "shell-local" {
    environment_vars = ["WHO=scripts"]
    scripts          = ["scripts/2.sh", "${path.root}/scripts/1.sh"]
  }
  provisioner "shell-local" {
    script = "scripts/1.sh"
  }
}
