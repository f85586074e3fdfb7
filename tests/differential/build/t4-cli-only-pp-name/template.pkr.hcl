source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "shell-local" {
    name   = "one"
    inline = ["echo one > one.txt"]
  }
  post-processor "shell-local" {
    name   = "two"
    inline = ["echo two > two.txt"]
  }
}
