# Reference numbers from R's csranks package for tests/test_ranks.py (confidence sets for ranks,
# Mogstad, Romano, Shaikh & Wilhelm 2024).
#
# Usage (from the project root): Rscript tests/reference/reference_ranks.R
# Needs: r-base-core, r-cran-mass and csranks with its imports (r-cran-ggplot2, r-cran-scales,
# r-cran-cli, r-cran-lifecycle; csranks installed from its source, github danielwilhelm/R-CS-ranks,
# with R CMD INSTALL). Reads tests/reference/data/ranks_estimates.csv and ranks_covariance.csv
# (written by make_ranks_inputs.py) and writes tests/reference/ranks_results.csv in long form:
#   case, unit, method, stepdown, quantity, value
# csranks simulates its critical values (parametric bootstrap, MASS::mvrnorm); R's and numpy's
# random numbers differ, so the stored numbers are chosen to be checkable across generators:
# - rank bounds L and U: csranks(x, Sigma, coverage = 0.95, stepdown, R = 20000, simul) for seeds
#   1..5; the script stops if the seeds disagree (a bound on the edge of the simulation error);
# - critical values of the single-step (stepdown = FALSE) sets: the max-|t| quantile behind
#   csranks' intervals for the differences (backed out of csranks:::csdiffmeans), mean and standard
#   deviation over seeds 1..5 with R = 100000 draws each.

suppressPackageStartupMessages(library(csranks))

here <- "tests/reference"
est <- read.csv(file.path(here, "data", "ranks_estimates.csv"), stringsAsFactors = FALSE)
covs <- read.csv(file.path(here, "data", "ranks_covariance.csv"), stringsAsFactors = FALSE)
out <- list()
add <- function(case, unit, method, stepdown, quantity, value) {
  out[[length(out) + 1]] <<- data.frame(case = case, unit = unit, method = method, stepdown = stepdown,
                                         quantity = quantity, value = format(as.numeric(value), digits = 17),
                                         stringsAsFactors = FALSE)
}
seeds <- 1:5

critical <- function(x, Sigma, indices, R, seed) {
  cs <- csranks:::csdiffmeans(x, Sigma, coverage = 0.95, indices = indices, cstype = "symmetric",
                              stepdown = FALSE, R = R, seed = seed)
  d <- outer(x, x, "-")
  s <- sqrt(outer(diag(Sigma), diag(Sigma), "+") - 2 * Sigma)
  z <- (d - cs$L) / s
  z <- z[is.finite(z)]
  stopifnot(length(z) > 0, diff(range(z)) < 1e-8)
  z[1]
}

for (case in unique(est$case)) {
  e <- est[est$case == case, ]
  x <- e$estimate
  p <- length(x)
  cv <- covs[covs$case == case, ]
  Sigma <- matrix(0, p, p)
  Sigma[cbind(cv$row, cv$col)] <- cv$value
  for (simul in c(FALSE, TRUE)) {
    method <- if (simul) "simultaneous" else "marginal"
    for (stepdown in c(TRUE, FALSE)) {
      runs <- lapply(seeds, function(s) csranks(x, Sigma, coverage = 0.95, stepdown = stepdown, R = 20000,
                                                simul = simul, seed = s))
      for (r in runs[-1]) if (!identical(r$L, runs[[1]]$L) || !identical(r$U, runs[[1]]$U))
        stop("case ", case, " ", method, " stepdown=", stepdown, ": the seeds give different bounds")
      for (i in seq_len(p)) {
        add(case, e$unit[i], method, stepdown, "rank", runs[[1]]$rank[i])
        add(case, e$unit[i], method, stepdown, "L", runs[[1]]$L[i])
        add(case, e$unit[i], method, stepdown, "U", runs[[1]]$U[i])
      }
    }
    # single-step critical values: one for the simultaneous sets, one per unit for the marginal ones
    sets <- if (simul) list(seq_len(p)) else as.list(seq_len(p))
    for (k in seq_along(sets)) {
      z <- sapply(seeds, function(s) critical(x, Sigma, sets[[k]], 100000, s))
      unit <- if (simul) "" else e$unit[k]
      add(case, unit, method, FALSE, "critical_mean", mean(z))
      add(case, unit, method, FALSE, "critical_sd", sd(z))
    }
  }
}
res <- do.call(rbind, out)
write.csv(res, file.path(here, "ranks_results.csv"), row.names = FALSE, fileEncoding = "UTF-8")
cat("R", R.version.string, "csranks", as.character(packageVersion("csranks")), "\n")
