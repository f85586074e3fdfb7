source "file" "out" {
  target  = "out.txt"
  content = <<EOT
parseint("ff", 16) = [${parseint("ff", 16)}]
parseint("FF", 16) = [${parseint("FF", 16)}]
parseint("-101", 2) = [${parseint("-101", 2)}]
parseint("zz", 36) = [${parseint("zz", 36)}]
parseint("0777", 8) = [${parseint("0777", 8)}]
parseint("123456789012345678901234567890", 10) = [${parseint("123456789012345678901234567890", 10)}]
parseint("-0", 10) = [${parseint("-0", 10)}]
parseint("+7", 10) = [${parseint("+7", 10)}]
parseint("00012", 10) = [${parseint("00012", 10)}]
parseint("Zz", 36) = [${parseint("Zz", 36)}]
EOT
}

build {
  sources = ["source.file.out"]
}
