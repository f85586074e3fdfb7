source "file" "shared" {
  content = "shared content\n"
}
build {
  name = "first"
  source "source.file.shared" {
    target = "first-shared.txt"
  }
  provisioner "shell-local" {
    inline = ["echo ${build.name} ${source.name} > first.txt"]
  }
}
build {
  name = "second"
  source "source.file.shared" {
    target = "second-shared.txt"
  }
  provisioner "shell-local" {
    inline = ["echo ${build.name} ${source.name} > second.txt"]
  }
}
