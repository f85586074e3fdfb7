# Reduced: the original amazon-ebs "vm" source is replaced by a null source with an SSH
# address (the build block overrides ssh_username, as the original does).
source "null" "vm" {
  ssh_host     = "192.0.2.10"
  ssh_password = "unused"
}
