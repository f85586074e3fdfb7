source "file" "out" {
  target  = "out.txt"
  content = <<EOT
chomp("a\n") = [${chomp("a\n")}]
chomp("a\r\n") = [${chomp("a\r\n")}]
chomp("a\n\n\n") = [${chomp("a\n\n\n")}]
chomp("a\r") = [${chomp("a\r")}]
chomp("a\n\r") = [${chomp("a\n\r")}]
chomp("\n") = [${chomp("\n")}]
chomp("") = [${chomp("")}]
chomp("a\n b") = [${chomp("a\n b")}]
chomp("a \n") = [${chomp("a \n")}]
EOT
}

build {
  sources = ["source.file.out"]
}
