source "file" "alpha" {
  content = "alpha\n"
  target  = "alpha.txt"
}
build {
  name    = "mybuild"
  sources = ["source.file.alpha"]
  provisioner "shell-local" {
    inline = ["echo 'build=${build.name} source=${source.name} type=${source.type}' > names.txt"]
  }
  post-processor "shell-local" {
    inline = ["echo 'pp build=${build.name} source=${source.name} type=${source.type}' > pp-names.txt"]
  }
}
