source "file" "a" {
  content = "hello\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processors {
    post-processor "shell-local" {
      inline = ["echo x > x.bin", "echo y > y.bin"]
    }
    post-processor "artifice" {
      files = ["x.bin", "y.bin"]
    }
    post-processor "checksum" {
      checksum_types = ["sha1"]
      output         = "files.sha1"
    }
    post-processor "manifest" {
      output = "m.json"
      custom_data = {
        n    = "1"
        kind = "artifice"
      }
    }
  }
}
