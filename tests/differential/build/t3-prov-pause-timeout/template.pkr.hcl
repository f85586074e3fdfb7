source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  provisioner "shell-local" {
    pause_before = "1s"
    timeout      = "30s"
    inline       = ["echo paused > out.txt"]
  }
}
