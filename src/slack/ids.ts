/** Every callback_id, action_id and block_id the app uses: listeners and builders share these. */
export const ids = {
  command: "/jc-update",
  requestModal: {
    callbackId: "jc_update_request",
    /** Input block of a field: `field:<key>`, e.g. `field:phone.work`. Action id is always `value`. */
    fieldBlock: (key: string) => `field:${key}`,
    fieldAction: "value",
    reasonBlock: "reason",
    reasonAction: "value",
  },
  loadingModal: { callbackId: "jc_update_loading" },
  bulkModal: {
    callbackId: "jc_update_bulk",
    csvBlock: "bulk_csv",
    csvAction: "value",
    fileBlock: "bulk_file",
    fileAction: "file",
    reasonBlock: "reason",
    reasonAction: "value",
  },
  /** Shown while a bulk CSV is checked: no submit button, replaced by views.update. */
  checkingModal: { callbackId: "jc_update_bulk_checking" },
  denyModal: {
    callbackId: "jc_update_deny",
    reasonBlock: "deny_reason",
    reasonAction: "value",
  },
  actions: {
    approve: "jc_approve",
    deny: "jc_deny",
    /** Withdraw button in the requester's receipt DM. */
    cancel: "jc_cancel",
  },
  approvalMessage: {
    decisionBlock: "decision",
  },
} as const;

export const FIELD_BLOCK_PREFIX = "field:";
