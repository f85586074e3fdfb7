source "file" "a" {
  content = "hello\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "compress" {
    output            = "out/{{.BuildName}}.tar.gz"
    compression_level = 9
    keep_input_artifact = true
  }
  post-processor "compress" {
    output = "out/plain.gz"
    keep_input_artifact = true
  }
  post-processor "compress" {
    output = "out/arch.zip"
    keep_input_artifact = true
  }
  post-processor "compress" {
    output = "out/arch.tar.lz4"
    keep_input_artifact = true
  }
  post-processor "compress" {
    output = "out/arch.tar"
    keep_input_artifact = true
  }
}
