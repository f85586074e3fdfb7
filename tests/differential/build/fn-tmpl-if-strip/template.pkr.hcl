locals {
  words = split(" ", "one two three")
}

source "file" "out" {
  target  = "out.txt"
  content = <<EOT
%{ if length(local.words) > 2 ~}
many
%{~ else ~}
few
%{~ endif }
%{ if contains(local.words, "four") }has four%{ else }no four%{ endif }
%{ for w in local.words ~}
%{ if length(w) == 3 ~}
${w} is short
%{ else ~}
${w} is long
%{ endif ~}
%{ endfor ~}
done
EOT
}

build {
  sources = ["source.file.out"]
}
