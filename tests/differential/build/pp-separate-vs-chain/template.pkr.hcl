source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "checksum" {
    checksum_types = ["md5"]
    output         = "single.md5"
  }
  post-processor "manifest" {
    output = "single-manifest.json"
  }
  post-processors {
    post-processor "shell-local" {
      inline = ["printf chained > chained.txt"]
    }
    post-processor "artifice" {
      files = ["chained.txt"]
    }
    post-processor "checksum" {
      checksum_types = ["sha1"]
      output         = "chain.sha1"
    }
    post-processor "manifest" {
      output = "chain-manifest.json"
    }
  }
}
