source "file" "out" {
  target  = "out.txt"
  content = <<EOT
textencodebase64("Hello", "UTF-16LE") = [${textencodebase64("Hello", "UTF-16LE")}]
textencodebase64("é", "UTF-8") = [${textencodebase64("é", "UTF-8")}]
textencodebase64("é", "ISO-8859-1") = [${textencodebase64("é", "ISO-8859-1")}]
textencodebase64("€", "windows-1252") = [${textencodebase64("€", "windows-1252")}]
textencodebase64("A", "UTF-16BE") = [${textencodebase64("A", "UTF-16BE")}]
textdecodebase64("SABlAGwAbABvAA==", "UTF-16LE") = [${textdecodebase64("SABlAGwAbABvAA==", "UTF-16LE")}]
textdecodebase64("6Q==", "ISO-8859-1") = [${textdecodebase64("6Q==", "ISO-8859-1")}]
EOT
}

build {
  sources = ["source.file.out"]
}
