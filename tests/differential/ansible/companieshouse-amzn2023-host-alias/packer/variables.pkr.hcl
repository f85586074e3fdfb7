# Reduced to the variables the build block uses (the indexed build.pkr.hcl refers to
# var.host_alias; the indexed variables.pkr.hcl, of another commit, names it ansible_host_alias).
variable "host_alias" {
  type        = string
  default     = "amazon2023-base"
  description = "The Ansible host alias"
}

variable "aws_region" {
  type        = string
  default     = "eu-west-2"
  description = "The AWS region in which the AMI will be built"
}

variable "playbook_file_path" {
  type        = string
  default     = "../ansible/playbook.yml"
  description = "The relative path to the Ansible playbook file"
}

variable "ssh_username" {
  type        = string
  default     = "ec2-user"
  description = "The username Packer will use when connecting with SSH"
}
