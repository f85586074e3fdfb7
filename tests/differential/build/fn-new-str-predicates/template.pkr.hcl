source "file" "out" {
  target  = "out.txt"
  content = <<EOT
startswith("hello", "he") = [${startswith("hello", "he")}]
startswith("hello", "") = [${startswith("hello", "")}]
startswith("", "a") = [${startswith("", "a")}]
startswith("Hello", "h") = [${startswith("Hello", "h")}]
endswith("hello", "lo") = [${endswith("hello", "lo")}]
endswith("hello", "") = [${endswith("hello", "")}]
endswith("e\u0301", "\u0301") = [${endswith("e\u0301", "\u0301")}]
strcontains("hello", "ll") = [${strcontains("hello", "ll")}]
strcontains("hello", "") = [${strcontains("hello", "")}]
strcontains("Hello", "h") = [${strcontains("Hello", "h")}]
EOT
}

build {
  sources = ["source.file.out"]
}
