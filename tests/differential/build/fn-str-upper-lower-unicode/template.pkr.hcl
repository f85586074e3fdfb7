source "file" "out" {
  target  = "out.txt"
  content = <<EOT
upper("straße") = [${upper("straße")}]
lower("İSTANBUL") = [${lower("İSTANBUL")}]
upper("ıi") = [${upper("ıi")}]
lower("ΣΑΣ") = [${lower("ΣΑΣ")}]
upper("ǆ") = [${upper("ǆ")}]
upper("ﬁ") = [${upper("ﬁ")}]
upper("e\u0301") = [${upper("e\u0301")}]
lower("ÀÉÎ") = [${lower("ÀÉÎ")}]
upper("ŉ") = [${upper("ŉ")}]
lower("Ω") = [${lower("Ω")}]
upper("abc123_-") = [${upper("abc123_-")}]
upper("") = [${upper("")}]
EOT
}

build {
  sources = ["source.file.out"]
}
