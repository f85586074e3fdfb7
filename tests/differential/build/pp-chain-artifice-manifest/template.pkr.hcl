source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processors {
    post-processor "shell-local" {
      inline = ["echo made > made.txt", "echo also > also.txt"]
    }
    post-processor "artifice" {
      files = ["made.txt", "also.txt"]
    }
    post-processor "manifest" {
      output = "manifest.json"
    }
  }
}
