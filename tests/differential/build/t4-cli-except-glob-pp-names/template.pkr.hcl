source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "shell-local" {
    name   = "notify-slack"
    inline = ["echo slack > slack.txt"]
  }
  post-processor "shell-local" {
    name   = "notify-mail"
    inline = ["echo mail > mail.txt"]
  }
  post-processor "shell-local" {
    name   = "keep"
    inline = ["echo keep > keep.txt"]
  }
}
