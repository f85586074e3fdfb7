source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processors {
    post-processor "shell-local" {
      inline = ["echo x > x.txt"]
    }
    post-processor "artifice" {
      files               = ["x.txt"]
      keep_input_artifact = false
    }
    post-processor "manifest" {
      output = "m.json"
    }
  }
}
