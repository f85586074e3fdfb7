source "file" "f" {
  content = "x"
  target  = "a.txt"
}
build {
  sources = ["source.file.f"]
  post-processor "manifest" {}
  post-processors {
    post-processor "shell-local" {
      inline = ["true"]
    }
    post-processor "shell-local" {
      inline = ["true"]
    }
  }
}
