source "file" "out" {
  target  = "out.txt"
  content = <<EOT
base64encode("") = [${base64encode("")}]
base64encode("a") = [${base64encode("a")}]
base64encode("ab") = [${base64encode("ab")}]
base64encode("hello") = [${base64encode("hello")}]
base64encode("é😀") = [${base64encode("é😀")}]
base64encode("\u0000\n") = [${base64encode("\u0000\n")}]
base64decode("aGVsbG8=") = [${base64decode("aGVsbG8=")}]
base64decode("") = [${base64decode("")}]
base64decode("w6k=") = [${base64decode("w6k=")}]
base64decode(base64encode("round trip ✓")) = [${base64decode(base64encode("round trip ✓"))}]
EOT
}

build {
  sources = ["source.file.out"]
}
