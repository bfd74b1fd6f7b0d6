# Emulator settings: a throwaway stack that `terraform destroy` can remove.
table_deletion_protection = false
kms_deletion_window_days  = 7
cdn_wait_for_deployment   = false
