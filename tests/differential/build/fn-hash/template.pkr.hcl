source "file" "out" {
  target  = "out.txt"
  content = <<EOT
md5("") = [${md5("")}]
md5("hello") = [${md5("hello")}]
sha1("") = [${sha1("")}]
sha1("é") = [${sha1("é")}]
sha256("hello") = [${sha256("hello")}]
sha256("") = [${sha256("")}]
sha512("") = [${sha512("")}]
sha512("abc") = [${sha512("abc")}]
md5("e\u0301") = [${md5("e\u0301")}]
EOT
}

build {
  sources = ["source.file.out"]
}
