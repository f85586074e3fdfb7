source "file" "out" {
  target  = "out.txt"
  content = "[${rsadecrypt(trimspace(file("ct.b64")), file("key.pem"))}]\n"
}
build {
  sources = ["source.file.out"]
}
