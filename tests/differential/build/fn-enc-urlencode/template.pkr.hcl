source "file" "out" {
  target  = "out.txt"
  content = <<EOT
urlencode("a b") = [${urlencode("a b")}]
urlencode("a+b&c=d/e?f#g") = [${urlencode("a+b&c=d/e?f#g")}]
urlencode("é") = [${urlencode("é")}]
urlencode("-_.~") = [${urlencode("-_.~")}]
urlencode("") = [${urlencode("")}]
urlencode("100%") = [${urlencode("100%")}]
urlencode("\n") = [${urlencode("\n")}]
urlencode("!*'();:@$,[]") = [${urlencode("!*'();:@$,[]")}]
EOT
}

build {
  sources = ["source.file.out"]
}
