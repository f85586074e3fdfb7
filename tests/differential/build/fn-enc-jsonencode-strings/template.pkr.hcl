source "file" "out" {
  target  = "out.txt"
  content = <<EOT
jsonencode("<>&") = [${jsonencode("<>&")}]
jsonencode("\u2028\u2029") = [${jsonencode("\u2028\u2029")}]
jsonencode("\t\n\r\u0001\u001f\u007f") = [${jsonencode("\t\n\r\u0001\u001f\u007f")}]
jsonencode("é😀") = [${jsonencode("é😀")}]
jsonencode("\"\\/") = [${jsonencode("\"\\/")}]
jsonencode("") = [${jsonencode("")}]
jsonencode("\u00ad\ufeff") = [${jsonencode("\u00ad\ufeff")}]
jsonencode("e\u0301") = [${jsonencode("e\u0301")}]
EOT
}

build {
  sources = ["source.file.out"]
}
