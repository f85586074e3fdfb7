source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
source "file" "b" {
  content = "b\n"
  target  = "b.txt"
}
build {
  sources = ["source.file.a", "source.file.b"]
  post-processors {
    post-processor "checksum" {
      only           = ["file.a"]
      checksum_types = ["md5"]
      output         = "{{.BuildName}}.md5"
    }
    post-processor "manifest" {
      output = "manifest-${source.name}.json"
    }
  }
}
