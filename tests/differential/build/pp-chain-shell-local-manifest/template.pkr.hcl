source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processors {
    post-processor "shell-local" {
      inline = ["echo ran > ran.txt"]
    }
    post-processor "manifest" {
      output = "manifest.json"
    }
  }
}
