source "file" "out" {
  target  = "out.txt"
  content = <<EOT
jsondecode("{\"b\":1,\"a\":[true,null,\"x\"]}") = [${jsonencode(jsondecode("{\"b\":1,\"a\":[true,null,\"x\"]}"))}]
jsondecode("1e3") = [${jsondecode("1e3")}]
jsondecode("\"\\u00e9\\u2028\"") = [${jsondecode("\"\\u00e9\\u2028\"")}]
jsondecode("12345678901234567890123") = [${jsondecode("12345678901234567890123")}]
jsondecode("  [ ]  ") = [${jsonencode(jsondecode("  [ ]  "))}]
jsondecode("0.1") = [${jsondecode("0.1")}]
jsondecode("-0") = [${jsondecode("-0")}]
jsondecode("\"<&>\"") = [${jsondecode("\"<&>\"")}]
jsondecode("{\"a\":1,\"a\":2}") = [${jsonencode(jsondecode("{\"a\":1,\"a\":2}"))}]
jsondecode("[1, \"a\", {\"n\": {}}]") = [${jsonencode(jsondecode("[1, \"a\", {\"n\": {}}]"))}]
jsondecode("true") = [${jsondecode("true")}]
EOT
}

build {
  sources = ["source.file.out"]
}
