build {
  sources = ["source.file.out"]
}
