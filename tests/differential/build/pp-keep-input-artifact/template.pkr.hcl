source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
source "file" "b" {
  content = "b\n"
  target  = "b.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "compress" {
    output              = "kept.tar.gz"
    keep_input_artifact = true
  }
}
build {
  name    = "drop"
  sources = ["source.file.b"]
  post-processor "compress" {
    output              = "dropped.tar.gz"
    keep_input_artifact = false
  }
}
