// Runs before `main` in every program linked with Tandem. When a Tandem program exits before
// the calibration it started on the side has finished, it starts a copy of its own executable,
// detached, with TANDEM_CALIBRATION_CHILD set to a one-time token (see
// `Calibration.handOffAtExit`): in that copy this constructor hands control to
// `tandem_calibration_child_main` (Swift), which checks the token, measures the machine, saves
// the profile and exits, so the program's own `main` never runs there. In every other process
// the variable is unset and this does nothing.
#include <stdlib.h>
#include "TandemStart.h"

extern void tandem_calibration_child_main(const char *token) __attribute__((weak));

__attribute__((constructor))
static void tandem_start(void) {
    const char *token = getenv("TANDEM_CALIBRATION_CHILD");
    if (token != NULL && tandem_calibration_child_main != NULL) tandem_calibration_child_main(token);
}
